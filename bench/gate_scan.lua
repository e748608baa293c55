-- wrk script for POST /v1/scans: each thread cycles through its own slice of pre-issued
-- request bodies (one token each), so one-time use does not turn the load into replays.
-- Usage: wrk -t2 -c32 -d10s --latency -s bench/gate_scan.lua http://127.0.0.1:18081 -- <bodies.txt> <threads>
local counter = 0

setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

init = function(args)
  bodies = {}
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  local threads = tonumber(args[2]) or 1
  local per = math.floor(#bodies / threads)
  first = tid * per + 1
  last = first + per - 1
  i = first - 1
  headers = { ["Content-Type"] = "application/json" }
end

request = function()
  i = i + 1
  if i > last then
    i = first
  end
  return wrk.format("POST", "/v1/scans", headers, bodies[i])
end
