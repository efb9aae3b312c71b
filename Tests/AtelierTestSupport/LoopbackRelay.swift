import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on loopback between a client under test and a server, so a test can drop the
/// connection as a network would: `down()` closes every connection passing through and closes
/// new ones as soon as they arrive, until `up()`. Bytes pass unchanged both ways.
public final class LoopbackRelay: Sendable {
    public let port: Int
    private let listener: any Channel
    private let connections: Connections

    private final class Connections: Sendable {
        struct State {
            var isDown = false
            var open: [ObjectIdentifier: any Channel] = [:]
        }
        let state = Mutex(State())
    }

    /// Starts relaying 127.0.0.1:`port` (a free one) to 127.0.0.1:`target`.
    public static func start(to target: Int) async throws -> LoopbackRelay {
        let connections = Connections()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                if connections.state.withLock({ $0.isDown }) { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target).flatMapThrowing { outbound in
                    try inbound.pipeline.syncOperations.addHandler(Splice(partner: outbound))
                    try outbound.pipeline.syncOperations.addHandler(Splice(partner: inbound))
                    connections.state.withLock {
                        $0.open[ObjectIdentifier(inbound)] = inbound
                        $0.open[ObjectIdentifier(outbound)] = outbound
                    }
                    for channel in [inbound, outbound] {
                        channel.closeFuture.whenComplete { _ in
                            _ = connections.state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
                        }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackRelay(port: listener.localAddress?.port ?? 0, listener: listener, connections: connections)
    }

    private init(port: Int, listener: any Channel, connections: Connections) {
        self.port = port
        self.listener = listener
        self.connections = connections
    }

    /// Drops every connection now and refuses new ones (they are accepted and closed at once).
    public func down() async {
        let open = connections.state.withLock { state in
            state.isDown = true
            return Array(state.open.values)
        }
        for channel in open { try? await channel.close() }
    }

    /// Relays new connections again.
    public func up() {
        connections.state.withLock { $0.isDown = false }
    }

    public func stop() async {
        await down()
        try? await listener.close()
    }
}

/// Writes what one side of a relayed connection reads to the other, and closes the other when
/// this side closes.
private final class Splice: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let partner: any Channel

    init(partner: any Channel) {
        self.partner = partner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
