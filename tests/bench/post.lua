-- wrk script for the POST callout cells: the method and the body come from the environment;
-- the pre-signed headers (Authorization, x-timestamp, Content-Type) come from wrk's -H options.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
