-- wrk script (RELIABILITY.md item 7): POST /v1/declarations with one body (a new
-- declaration, signed token and QR each time), counting 5xx responses.
-- Usage: wrk ... -s bench/load_declare.lua URL -- <body.json>
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  local f = assert(io.open(args[1], "r"))
  body = f:read("*a")
  f:close()
  headers = { ["Content-Type"] = "application/json" }
  server_errors = 0
end

request = function()
  return wrk.format("POST", "/v1/declarations", headers, body)
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
