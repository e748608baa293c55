-- wrk script (bench/gate_scan.sh, RELIABILITY.md item 7): POST /v1/scans, each pre-issued
-- request body (one token each, a slice per thread) sent at most once, counting 5xx and
-- non-200 answers.
-- Usage: GATE_KEY=<device key> wrk ... -s bench/load_scan.lua URL -- <bodies.txt> <threads>
-- PACE_MS=<ms>: each connection waits that long before each request (a paced run at a
-- chosen rate, connections x 1000 / PACE_MS a second at most, instead of saturation).
--
-- The pool is never cycled: a token sent a second time would be a replay the load made
-- itself, not something the gate did wrong. When a thread's slice runs out it stops
-- (wrk.thread:stop()) and sends nothing more; the run is then judged on the scans that were
-- sent (`done` prints how many, and whether and when the pool ran out). A faster machine
-- therefore runs out sooner instead of failing. (wrk calls request() once before the
-- run to check the script: thread 0's first body is taken but never sent.)
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
  headers = { ["Content-Type"] = "application/json",
              ["Authorization"] = "Bearer " .. (os.getenv("GATE_KEY") or "") }
  server_errors = 0
  not_ok = 0
  sent = 0
  answered = 0
  exhausted_after = -1
  started = os.time()
end

if os.getenv("PACE_MS") then
  local pace = tonumber(os.getenv("PACE_MS"))
  delay = function()
    return pace
  end
end

request = function()
  if i >= last then
    -- Pool slice used up: stop this thread; the empty request writes nothing.
    if exhausted_after < 0 then
      exhausted_after = os.time() - started
      wrk.thread:stop()
    end
    return ""
  end
  i = i + 1
  sent = sent + 1
  return wrk.format("POST", "/v1/scans", headers, bodies[i])
end

response = function(status, headers, body)
  answered = answered + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

done = function(summary, latency, requests)
  local total, bad, s, a, ex, pool = 0, 0, 0, 0, -1, 0
  for _, t in ipairs(threads) do
    total = total + (t:get("server_errors") or 0)
    bad = bad + (t:get("not_ok") or 0)
    s = s + (t:get("sent") or 0)
    a = a + (t:get("answered") or 0)
    local e = t:get("exhausted_after") or -1
    if e >= 0 and (ex < 0 or e < ex) then ex = e end
    pool = pool + ((t:get("last") or 0) - (t:get("first") or 1) + 1)
  end
  io.write(string.format("server_errors=%d\nnot_200=%d\nscans_sent=%d\nscans_answered=%d\npool=%d\n", total, bad, s, a, pool))
  if ex >= 0 then
    io.write(string.format("pool_exhausted_after_s=%d\n", ex))
  end
end
