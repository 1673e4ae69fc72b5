-- wrk script for the morning peak (bench/peak.py): pre-signed check-ins sent on a schedule.
--   BENCH_BODIES  lines "<offset ms>\t<token>\t<json>", offsets ascending; token "-" is a
--                 GET /healthz that only opens a connection (wrk sends each connection's
--                 first request at once, without asking delay(); those are the first lines)
--   BENCH_RESULT  done() writes a JSON summary there and "<status> <id>" per answer to
--                 BENCH_RESULT .. ".answers"
-- One wrk thread (-t1): delay() books the next line for the connection asking and returns
-- how long to wait for its time; timers fire in time order, so request() sends the lines in
-- order, each at (or, when every connection is busy, after) its scheduled time.

local now = require("clock") -- bench/clock.lua (LUA_PATH set by bench/peak.py)

local bodies = os.getenv("BENCH_BODIES")
local result_path = os.getenv("BENCH_RESULT")
local path = os.getenv("BENCH_PATH") or "/api/v1/presence/checkins"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   reqs, offsets, opens = {}, {}, 0
   for line in io.lines(bodies) do
      local a = line:find("\t", 1, true)
      local b = line:find("\t", a + 1, true)
      local token = line:sub(a + 1, b - 1)
      offsets[#offsets + 1] = tonumber(line:sub(1, a - 1)) / 1000.0
      if token == "-" then
         opens = opens + 1
         reqs[#reqs + 1] = wrk.format("GET", "/healthz")
      else
         reqs[#reqs + 1] = wrk.format("POST", path, {
            ["Authorization"] = "Bearer " .. token,
            ["Content-Type"] = "application/json",
         }, line:sub(b + 1))
      end
   end
   loaded, booked, sent, answered = #reqs, 0, 0, 0
   t0 = now()
   t_end = 0
   late_sum, late_max = 0.0, 0.0
   answers = {}
end

function delay()
   booked = booked + 1
   if booked > loaded then return 3600000 end
   local wait = offsets[booked] - (now() - t0)
   if wait < 0 then
      late_sum = late_sum - wait
      if -wait > late_max then late_max = -wait end
      return 0
   end
   return math.floor(wait * 1000)
end

function request()
   if sent < loaded then
      sent = sent + 1
      return reqs[sent]
   end
   return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
   answered = answered + 1
   local id = body:match('"id": ?"([^"]*)"')
   if id then answers[#answers + 1] = status .. " " .. id end
   if answered >= loaded then
      t_end = now()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local t = threads[1]
   local f = assert(io.open(result_path .. ".answers", "w"))
   for _, a in ipairs(t:get("answers")) do f:write(a, "\n") end
   f:close()
   local pct = {}
   for _, p in ipairs({50, 90, 99, 99.9}) do
      pct[#pct + 1] = string.format('"%s": %d', tostring(p), latency:percentile(p))
   end
   local e = summary.errors
   local t_end = t:get("t_end")
   local r = assert(io.open(result_path, "w"))
   r:write(string.format(
      '{"requests": %d, "loaded": %d, "opens": %d, "sent": %d, "answered": %d, ' ..
      '"span_s": %.3f, "late_sum_s": %.3f, "late_max_s": %.3f, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"max": %d, "percentiles": {%s}}}',
      summary.requests, t:get("loaded"), t:get("opens"), t:get("sent"), t:get("answered"),
      t_end > 0 and (t_end - t:get("t0")) or 0, t:get("late_sum"), t:get("late_max"),
      e.connect, e.read, e.write, e.status, e.timeout, latency.max, table.concat(pct, ", ")))
   r:close()
end
