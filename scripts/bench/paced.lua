-- wrk has no rate option (wrk2 is not packaged): each connection waits ATELIER_BENCH_GAP_MS
-- between requests, so N connections send about N × 1000 / (gap + latency) requests per second.
-- ATELIER_BENCH_MODE=get reads one job, =post submits jobs.
local gap = tonumber(os.getenv("ATELIER_BENCH_GAP_MS") or "10")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATELIER_BENCH_KEY")
if os.getenv("ATELIER_BENCH_MODE") == "post" then
  wrk.method = "POST"
  wrk.path = "/v1/jobs"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"kind": "image", "prompt": "a red fox in fresh snow", "params": {"width": 512, "height": 512, "seed": 7}}'
else
  wrk.method = "GET"
  wrk.path = "/v1/jobs/" .. os.getenv("ATELIER_BENCH_JOB")
end
function delay() return gap end
