-- wrk script for POST /v1/scans/image: camera-like JPEG frames in multipart bodies, a
-- fresh token in every frame (bench/image_frames.py), each frame sent at most once.
-- Usage: GATE_KEY=<device key> wrk -t1 -c1 -d10s --latency -s bench/gate_image.lua http://127.0.0.1:18081 -- <frames dir> <count>
--
-- Re-sending one frame would make every scan after the first RED `token.replayed` (the
-- replay path, which also opens a case), so when the frames run out the thread stops and
-- the run is judged on what was sent. `done` prints the answers by kind; bench/gate_scan.sh
-- refuses to print a figure unless every answer was a 200 decision on a first use
-- (GREEN, or RED for random selection only).
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  local dir, n = args[1], tonumber(args[2])
  local b = "XgateBenchBoundary"
  bodies = {}
  for k = 0, n - 1 do
    local f = assert(io.open(dir .. "/" .. k .. ".jpg", "rb"))
    local img = f:read("*a")
    f:close()
    local m = assert(io.open(dir .. "/" .. k .. ".mrz", "r"))
    local mrz = m:read("*a")
    m:close()
    bodies[#bodies + 1] = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"mrz\"\r\n\r\n" .. mrz .. "\r\n"
      .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.jpg\"\r\n"
      .. "Content-Type: image/jpeg\r\n\r\n" .. img .. "\r\n--" .. b .. "--\r\n"
  end
  headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. b,
              ["Authorization"] = "Bearer " .. (os.getenv("GATE_KEY") or "") }
  nframes = #bodies
  i = 0
  sent, ok, green, selected, replayed, other_red, not_ok, server_errors = 0, 0, 0, 0, 0, 0, 0, 0
  exhausted_after = -1
  started = os.time()
end

request = function()
  if i >= #bodies then
    if exhausted_after < 0 then
      exhausted_after = os.time() - started
      wrk.thread:stop()
    end
    return ""
  end
  i = i + 1
  sent = sent + 1
  return wrk.format("POST", "/v1/scans/image", headers, bodies[i])
end

response = function(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  if status ~= 200 then
    not_ok = not_ok + 1
    return
  end
  ok = ok + 1
  if body:find('"token.replayed"', 1, true) then
    replayed = replayed + 1
  elseif body:find('"decision":"green"', 1, true) then
    green = green + 1
  else
    -- RED: for random selection only when the answer gives the passenger no reason (a
    -- check is never explained to the device; the bench has no watch rules).
    local codes = 0
    for _ in body:gmatch('"code":"([^"]*)"') do
      codes = codes + 1
    end
    if codes == 0 then
      selected = selected + 1
    else
      other_red = other_red + 1
    end
  end
end

done = function(summary, latency, requests)
  local names = { "sent", "ok", "green", "selected", "replayed", "other_red", "not_ok", "server_errors" }
  local labels = { "sent", "answered_200", "green", "red_selection_only", "replayed", "other_red", "not_200", "server_errors" }
  local frames, ex = 0, -1
  for k, name in ipairs(names) do
    local total = 0
    for _, t in ipairs(threads) do total = total + (t:get(name) or 0) end
    io.write(string.format("%s=%d\n", labels[k], total))
  end
  for _, t in ipairs(threads) do
    local b = t:get("nframes") or 0
    frames = frames + b
    local e = t:get("exhausted_after") or -1
    if e >= 0 and (ex < 0 or e < ex) then ex = e end
  end
  io.write(string.format("frames=%d\n", frames))
  if ex >= 0 then
    io.write(string.format("frames_exhausted_after_s=%d\n", ex))
  end
end
