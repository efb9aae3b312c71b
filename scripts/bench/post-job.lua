-- wrk: POST /v1/jobs with a small image job; every request a new job (no Idempotency-Key).
wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATELIER_BENCH_KEY")
wrk.body = '{"kind": "image", "prompt": "a red fox in fresh snow", "params": {"width": 512, "height": 512, "seed": 7}}'

local accepted, other = 0, 0
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
