-- wrk: the caseload per coordinator and department (a read model).
-- KUI_TOKEN: a token of a role that may read cases.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KUI_TOKEN")
wrk.body = '{"query":"{ caseload { coordinators { name active capacity overCapacity } departments { department coordinated } } }"}'
