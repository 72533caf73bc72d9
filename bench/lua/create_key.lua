-- create_key.lua — POST /v1/organizations/$LK_ORG/access-keys with the
-- personal key $LK_TOKEN (a member of the org): every request creates one
-- durable key (one commit). Static request, built once.
wrk.method = "POST"
wrk.path = "/v1/organizations/" .. os.getenv("LK_ORG") .. "/access-keys"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LK_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"bench key"}'
dofile(os.getenv("LK_LUA") .. "/report.lua")
