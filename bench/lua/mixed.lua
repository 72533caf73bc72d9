-- mixed.lua — 90% reads, 10% writes, in a fixed repeating order of 100
-- requests per wrk thread (deterministic, no random numbers):
--   45 x GET /v1/whoami                        (personal key, $LK_TOKEN)
--   45 x GET /v1/organizations/{org}/projects  (org key, $LK_ORGKEY)
--    4 x POST   .../access-keys                (create; personal key)
--    3 x PATCH  .../access-keys/{key}          (rename the newest we created)
--    3 x DELETE .../access-keys/{key}          (delete the oldest we created)
-- Ids of created keys come back in response(); a rename/delete with too few
-- ids in hand becomes a create instead. Per-request Lua and response
-- parsing cost wrk some CPU, so the nginx ratio of this row is pessimistic.
local org = os.getenv("LK_ORG")
local personal = "Bearer " .. os.getenv("LK_TOKEN")
local orgkey = "Bearer " .. os.getenv("LK_ORGKEY")
local keys_path = "/v1/organizations/" .. org .. "/access-keys"

local whoami, projects, create
local ids, head, tail = {}, 1, 0 -- queue of created key ids
local n = 0

function init(args)
   whoami = wrk.format("GET", "/v1/whoami", {["Authorization"] = personal})
   projects = wrk.format("GET", "/v1/organizations/" .. org .. "/projects",
                         {["Authorization"] = orgkey})
   create = wrk.format("POST", keys_path,
                       {["Authorization"] = personal, ["Content-Type"] = "application/json"},
                       '{"name":"mixed key"}')
end

function request()
   n = n + 1
   local slot = n % 100
   if slot < 45 then return whoami end
   if slot < 90 then return projects end
   local have = tail - head + 1
   if slot < 94 or have < 2 then return create end
   if slot < 97 then
      return wrk.format("PATCH", keys_path .. "/" .. ids[tail],
                        {["Authorization"] = personal, ["Content-Type"] = "application/json"},
                        '{"name":"renamed"}')
   end
   local id = ids[head]
   ids[head] = nil
   head = head + 1
   return wrk.format("DELETE", keys_path .. "/" .. id, {["Authorization"] = personal})
end

function response(status, headers, body)
   if status == 201 then
      local id = string.match(body, '"id"%s*:%s*"(key_[%w]+)"')
      if id then
         tail = tail + 1
         ids[tail] = id
      end
   end
end

dofile(os.getenv("LK_LUA") .. "/report.lua")
