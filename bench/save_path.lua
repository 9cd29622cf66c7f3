-- wrk script of bench/save_path.py: one thread per connection, one connection per editor.
--
-- Each thread is one editor autosaving its own organisation's response: it PUTs one
-- changed answer with the version of its own previous save, as the web client does.
-- The editors file (argument 1) has one line per editor: "<path> <token> <version>";
-- the token is empty for the raw baseline. A thread takes the line of its own number.
-- done() prints one JSON line the bench reads: percentiles of the latency and counts.

local counter = 1
local threads = {}

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

function init(args)
   local n = 0
   for line in io.lines(args[1]) do
      n = n + 1
      if n == id then
         path, token, version = line:match("^(%S+) (%S*) (%d+)$")
         version = tonumber(version)
      end
   end
   question = args[2] or "activities"
   value = 100 + id * 1000
   saves = 0
   conflicts = 0
   failures = 0
   wrk.headers["Content-Type"] = "application/json"
   if token ~= nil and token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
end

function request()
   value = value + 1
   local body = string.format('{"answers":{"%s":%d},"version":%d}', question, value, version)
   return wrk.format("PUT", path, nil, body)
end

function response(status, headers, body)
   if status == 200 then
      saves = saves + 1
      local v = body:match('"version":(%d+)')
      if v then version = tonumber(v) end
   elseif status == 409 then
      conflicts = conflicts + 1
      local v = body:match('"version":(%d+)')
      if v then version = tonumber(v) end
   else
      failures = failures + 1
   end
end

function done(summary, latency, requests)
   local saves, conflicts, failures = 0, 0, 0
   for _, thread in ipairs(threads) do
      saves = saves + thread:get("saves")
      conflicts = conflicts + thread:get("conflicts")
      failures = failures + thread:get("failures")
   end
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"saves":%d,"conflicts":%d,"failures":%d,' ..
      '"socket_errors":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, saves, conflicts, failures,
      summary.errors.connect + summary.errors.read + summary.errors.write
         + summary.errors.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
