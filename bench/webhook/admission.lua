-- wrk script: POST a realistic TFJob AdmissionReview (CREATE) to the validating webhook.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("KUBEDL_BENCH_BODY"), "r"))
wrk.body = f:read("*a")
f:close()
