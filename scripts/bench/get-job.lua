-- wrk: GET /v1/jobs/{id} for one job (ATELIER_BENCH_JOB) with a creator's key.
wrk.method = "GET"
wrk.path = "/v1/jobs/" .. os.getenv("ATELIER_BENCH_JOB")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ATELIER_BENCH_KEY")
