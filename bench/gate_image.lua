-- wrk script for POST /v1/scans/image: one camera-like JPEG frame in a multipart body.
-- Usage: wrk -t1 -c1 -d10s --latency -s bench/gate_image.lua http://127.0.0.1:18081 -- <frame.jpg> <mrz.txt>
init = function(args)
  local f = assert(io.open(args[1], "rb"))
  local img = f:read("*a")
  f:close()
  local m = assert(io.open(args[2], "r"))
  local mrz = m:read("*a")
  m:close()
  local b = "XgateBenchBoundary"
  body = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"mrz\"\r\n\r\n" .. mrz .. "\r\n"
    .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"gate_id\"\r\n\r\nB-IMG\r\n"
    .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.jpg\"\r\n"
    .. "Content-Type: image/jpeg\r\n\r\n" .. img .. "\r\n--" .. b .. "--\r\n"
  headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. b }
end

request = function()
  return wrk.format("POST", "/v1/scans/image", headers, body)
end
