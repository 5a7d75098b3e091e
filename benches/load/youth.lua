-- wrk: one young person's case by id (a caseworker's read; each read is recorded in the access log).
-- KUI_TOKEN: a caseworker token; KUI_YOUTH: a youth id of the same municipality.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KUI_TOKEN")
wrk.body = '{"query":"{ youth(id: \\"' .. os.getenv("KUI_YOUTH") .. '\\") { name team needLevel coordinator { status } version } }"}'
