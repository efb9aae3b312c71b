#!/usr/bin/env python3
"""A throw-away S3-compatible server that checks presigned URLs, for Atelier's tests: nanio
(from PyPI) on a free loopback port with one access key. moto checks the signatures of
header-signed requests but serves presigned URLs without looking at them; nanio refuses a
presigned URL whose signature does not match or whose X-Amz-Expires has passed, as S3 does.
Creates one bucket, writes {"endpoint", "access_key_id", "secret_access_key", "bucket", "region"}
as JSON to the file named by the first argument, and serves until its parent process goes away."""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

from throwaway_server import publish, serve_while_parent_lives


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    # The test process stops us with SIGTERM: leave through the finally below, taking nanio along.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    info_path = sys.argv[1]
    bucket = sys.argv[2] if len(sys.argv) > 2 else "atelier-test"
    parent = os.getppid()
    region = "eu-central-1"
    access_key, secret_key = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    data = tempfile.mkdtemp(prefix="atelier-nanio-")
    for attempt in range(5):
        port = free_port()
        environment = dict(os.environ, NANIO_ACCESS_KEY=access_key, NANIO_SECRET_KEY=secret_key)
        server = subprocess.Popen(
            [sys.executable, "-m", "nanio", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", data, "--region", region, "--log-level", "warning", "--no-access-log"],
            env=environment)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
                              aws_secret_access_key=secret_key,
                              config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline:
            try:
                client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
                break
            except Exception:  # not listening yet
                time.sleep(0.1)
        else:
            server.kill()
            server.wait()
            continue  # the port was taken between choosing and binding it, or nanio is slow: try another
        break
    else:
        sys.exit("nanio did not start")
    try:
        info = {"endpoint": endpoint, "access_key_id": access_key, "secret_access_key": secret_key,
                "bucket": bucket, "region": region}
        publish(info, info_path)
        serve_while_parent_lives(parent, running=lambda: server.poll() is None)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
