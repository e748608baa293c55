-- wrk script: POST /v1/declarations with a party of 4 declaring 5 items.
-- wrk -t2 -c16 -d10s --latency -s bench/declare.lua http://127.0.0.1:18080 -- YYYY-MM-DD
local arrival = "2026-01-01"
function init(args)
  if args[1] then arrival = args[1] end
end
function request()
  local body = [[{"passenger":{"surname":"Tanaka","given_names":"Hanako","nationality":"JPN",
"birth_date":"1985-04-12","sex":"F","passport_number":"TR1234567","passport_expiry":"2035-01-31"},
"trip":{"flight":"NH212","origin":"LHR","arrival_date":"]] .. arrival .. [[",
"address_in_japan":"Hotel Sakura, Ginza, Tokyo","phone":"+81 90 1234 5678","occupation":"Engineer"},
"party":{"aged_20_plus":2,"aged_6_to_19":1,"under_6":1},
"answers":{"prohibited":false,"over_allowance":false,"commercial":false,"for_others":false,
"means_of_payment_over_limit":false,"precious_metal_over_1kg":false,"unaccompanied_packages":0},
"items":[{"category":"whisky","quantity":2,"volume_ml":700,"value":{"amount":80,"currency":"GBP"}},
{"category":"wine","quantity":2,"volume_ml":750,"value":{"amount":40,"currency":"EUR"}},
{"category":"cigarettes","quantity":200,"value":{"amount":60,"currency":"USD"}},
{"category":"perfume","quantity":1,"volume_ml":50,"value":{"amount":120,"currency":"EUR"}},
{"category":"clothing","quantity":3,"value":{"amount":150,"currency":"USD"}}]}]]
  return wrk.format("POST", "/v1/declarations", {["Content-Type"] = "application/json"}, body)
end

-- Every answer counted: bench/run_all.sh prints no figure unless all were 201.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
created, not_201 = 0, 0
function response(status, headers, body)
  if status == 201 then created = created + 1 else not_201 = not_201 + 1 end
end
function done(summary, latency, requests)
  local c, n = 0, 0
  for _, t in ipairs(threads) do
    c = c + (t:get("created") or 0)
    n = n + (t:get("not_201") or 0)
  end
  io.write(string.format("created=%d\nnot_201=%d\n", c, n))
end
