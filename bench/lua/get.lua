-- get.lua — a fixed GET (the path is on wrk's command line), with
-- "Authorization: Bearer $LK_TOKEN" when LK_TOKEN is set. The request is
-- built once (no per-request Lua), like the nginx reference run.
local tok = os.getenv("LK_TOKEN")
if tok and tok ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. tok
end
dofile(os.getenv("LK_LUA") .. "/report.lua")
