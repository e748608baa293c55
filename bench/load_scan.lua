-- wrk script (bench/gate_scan.sh, RELIABILITY.md item 7): POST /v1/scans cycling through pre-issued
-- request bodies (one token each, a slice per thread), counting 5xx responses.
-- Usage: wrk ... -s bench/load_scan.lua URL -- <bodies.txt> <threads>
local counter = 0
local threads = {}

setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

init = function(args)
  bodies = {}
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  local n = tonumber(args[2]) or 1
  local per = math.floor(#bodies / n)
  first = tid * per + 1
  last = first + per - 1
  i = first - 1
  headers = { ["Content-Type"] = "application/json" }
  server_errors = 0
end

request = function()
  i = i + 1
  if i > last then
    i = first
  end
  return wrk.format("POST", "/v1/scans", headers, bodies[i])
end

response = function(status, headers, body)
  if status >= 500 then
    server_errors = server_errors + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + (t:get("server_errors") or 0)
  end
  io.write(string.format("server_errors=%d\n", total))
end
