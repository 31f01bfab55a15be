-- Replays precomputed requests (one per line: METHOD \t PATH \t HEADERS \t BODY, headers
-- separated by \31 as "Name: value") in order; stops after `limit` responses; counts non-2xx.
-- Prints one line "BENCHJSON {...}" with the counts and latency percentiles (microseconds).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

reqs = {}
n = 0
i = 0
completed = 0
bad = 0
limit = 0

function init(args)
  limit = tonumber(args[2]) or 0
  for line in io.lines(args[1]) do
    local method, p, hdrs, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {Host = "127.0.0.1"}
    for h in string.gmatch(hdrs, "[^\31]+") do
      local k, v = h:match("^([^:]+):%s*(.*)$")
      headers[k] = v
    end
    if body == "" then body = nil end
    n = n + 1
    reqs[n] = wrk.format(method, p, headers, body)
  end
end

function request()
  i = i + 1
  return reqs[((i - 1) % n) + 1]
end

function response(status, headers, body)
  completed = completed + 1
  if status < 200 or status > 299 then bad = bad + 1 end
  if limit > 0 and completed >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local issued, ok, nonok = 0, 0, 0
  for _, t in ipairs(threads) do
    issued = issued + t:get("i")
    ok = ok + t:get("completed")
    nonok = nonok + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"duration_us": %d, "requests": %d, "issued": %d, "responses": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.duration, summary.requests, issued, ok, nonok,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
