-- wrk: one coordinator's caseload (a read model; names no young person, so no access record).
-- KUI_TOKEN: a token of a role that may read cases; KUI_STAFF: a coordinator's staff id
-- of the same municipality (the first `staff` of `{ caseload { coordinators { staff } } }`).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KUI_TOKEN")
wrk.body = '{"query":"{ coordinatorLoad(staff: \\"' .. os.getenv("KUI_STAFF") .. '\\") { name active capacity overCapacity } }"}'
