-- wrk script: replay pre-signed check-ins, each at most once, for wrk's -d seconds.
--   BENCH_BODIES   file of "<token>\t<json>" lines (bench/checkin_sign.py)
--   BENCH_THREADS  wrk's -t: thread k takes lines k, k+T, k+2T, ... in order
--   BENCH_RESULT   done() writes a JSON summary there, and "<status> <id>" per answer to
--                  BENCH_RESULT .. ".answers", so the driver can check every answer against
--                  the ledger and retry the check-ins whose answer the end of the run cut off.
-- The run is timed with the monotonic clock (bench/clock.lua): first request sent -> last
-- answer received. A thread that runs out of check-ins stops (its requests still in flight
-- are then unanswered, like those cut off by the end of the run, and retried by the driver).

local now = require("clock") -- bench/clock.lua (the driver puts bench/ on LUA_PATH)

local bodies = os.getenv("BENCH_BODIES")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local result_path = os.getenv("BENCH_RESULT")
local path = os.getenv("BENCH_PATH") or "/api/v1/presence/checkins"

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   reqs = {}
   local i = 0
   for line in io.lines(bodies) do
      if i % nthreads == tid then
         local tab = line:find("\t", 1, true)
         reqs[#reqs + 1] = wrk.format("POST", path, {
            ["Authorization"] = "Bearer " .. line:sub(1, tab - 1),
            ["Content-Type"] = "application/json",
         }, line:sub(tab + 1))
      end
      i = i + 1
   end
   loaded = #reqs
   sent = 0
   ran_out = 0
   t_first = 0
   t_last = 0
   answers = {}
end

function request()
   if sent < loaded then
      sent = sent + 1
      if sent == 1 then t_first = now() end
      return reqs[sent]
   end
   ran_out = 1
   wrk.thread:stop()
   return ""
end

function response(status, headers, body)
   t_last = now()
   local id = body:match('"id": ?"([^"]*)"') or "-"
   answers[#answers + 1] = status .. " " .. id
end

function done(summary, latency, requests)
   local first, last = nil, 0
   local per_thread = {}
   local f = assert(io.open(result_path .. ".answers", "w"))
   for _, thread in ipairs(threads) do
      local tf = thread:get("t_first")
      if tf > 0 and (first == nil or tf < first) then first = tf end
      local tl = thread:get("t_last")
      if tl > last then last = tl end
      local got = thread:get("answers")
      for _, a in ipairs(got) do f:write(a, "\n") end
      per_thread[#per_thread + 1] = string.format(
         '{"tid": %d, "loaded": %d, "sent": %d, "answered": %d, "ran_out": %d}',
         thread:get("tid"), thread:get("loaded"), thread:get("sent"), #got, thread:get("ran_out"))
   end
   f:close()
   local pct = {}
   for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
      pct[#pct + 1] = string.format('"%s": %d', tostring(p), latency:percentile(p))
   end
   local e = summary.errors
   local out = string.format(
      '{"wrk_duration_us": %d, "requests": %d, "bytes": %d, "span_s": %.6f, ' ..
      '"threads": [%s], ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, "percentiles": {%s}}}',
      summary.duration, summary.requests, summary.bytes,
      (first and last > first) and (last - first) or 0, table.concat(per_thread, ", "),
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max, latency.stdev, table.concat(pct, ", "))
   local r = assert(io.open(result_path, "w"))
   r:write(out)
   r:close()
end
