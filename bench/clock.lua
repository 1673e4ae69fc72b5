-- The monotonic clock for the wrk scripts (LuaJIT's FFI): `local now = require("clock")`,
-- with bench/ on LUA_PATH (the drivers set it). now() is seconds, CLOCK_MONOTONIC.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
return function()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
