-- soak.lua — bench/soak.sh's workload: mixed traffic whose key count stays
-- bounded (creates and deletes balance), in a fixed order of 100 requests
-- per wrk thread:
--   45 x GET /v1/whoami                        (personal key, $LK_TOKEN)
--   45 x GET /v1/organizations/{org}/projects  (org key, $LK_ORGKEY)
--    4 x POST   .../access-keys                (create; personal key)
--    2 x PATCH  .../access-keys/{key}          (rename the newest we created)
--    4 x DELETE .../access-keys/{key}          (delete the oldest we created)
-- $LK_SOAK_DELAY_MS (default 0) waits that long before each request on a
-- connection: soak.sh sets it so the rate is ~80% of the measured maximum.
-- done() prints bench's RESULT line (report.lua) and
--   SOAK <5xx answers> <other non-2xx answers>
local org = os.getenv("LK_ORG")
local personal = "Bearer " .. os.getenv("LK_TOKEN")
local orgkey = "Bearer " .. os.getenv("LK_ORGKEY")
local keys_path = "/v1/organizations/" .. org .. "/access-keys"
local delay_ms = tonumber(os.getenv("LK_SOAK_DELAY_MS") or "0")

local whoami, projects, create
local ids, head, tail = {}, 1, 0
local n = 0
fivexx, other = 0, 0 -- per thread; summed in done()

function init(args)
   whoami = wrk.format("GET", "/v1/whoami", {["Authorization"] = personal})
   projects = wrk.format("GET", "/v1/organizations/" .. org .. "/projects",
                         {["Authorization"] = orgkey})
   create = wrk.format("POST", keys_path,
                       {["Authorization"] = personal, ["Content-Type"] = "application/json"},
                       '{"name":"soak key"}')
end

function request()
   n = n + 1
   local slot = n % 100
   if slot < 45 then return whoami end
   if slot < 90 then return projects end
   local have = tail - head + 1
   if slot < 94 or have < 2 then return create end
   if slot < 96 then
      return wrk.format("PATCH", keys_path .. "/" .. ids[tail],
                        {["Authorization"] = personal, ["Content-Type"] = "application/json"},
                        '{"name":"soak renamed"}')
   end
   local id = ids[head]
   ids[head] = nil
   head = head + 1
   return wrk.format("DELETE", keys_path .. "/" .. id, {["Authorization"] = personal})
end

if delay_ms > 0 then
   function delay() return delay_ms end
end

function response(status, headers, body)
   if status >= 500 then
      fivexx = fivexx + 1
   elseif status >= 300 then
      other = other + 1
   end
   if status == 201 then
      local id = string.match(body, '"id"%s*:%s*"(key_[%w]+)"')
      if id then
         tail = tail + 1
         ids[tail] = id
      end
   end
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
end

dofile(os.getenv("LK_LUA") .. "/report.lua")
local report_done = done
function done(summary, latency, requests)
   report_done(summary, latency, requests)
   local f, o = 0, 0
   for _, t in ipairs(threads) do
      f = f + t:get("fivexx")
      o = o + t:get("other")
   end
   io.write(string.format("SOAK %d %d\n", f, o))
end
