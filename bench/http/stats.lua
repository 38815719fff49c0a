-- wrk script: prints one machine-readable line with the run's figures (bench/http.sh reads it).
--
-- wrk 4.x "corrects" its latency histogram for coordinated omission before done() runs: every
-- latency above twice the expected interval (run time / (requests / connections)) adds synthetic
-- samples at that latency minus 1, 2, ... intervals. Its mean and percentiles are then those of a
-- client sending at a constant rate, not of the requests that were made (on a shared VM, a few
-- millisecond stalls at concurrency 1 turn into thousands of synthetic samples). This script prints
-- both: wrk's corrected figures (c_*) and the per-request figures (*), recovered by undoing the
-- correction: for a latency v above the interval e, corrected(v) = sum over k >= 0 of
-- recorded(v + k*e), so recorded(v) = corrected(v) - corrected(v + e).
-- The connection count comes from the environment (WRK_CONNECTIONS), as done() gets no arguments.
-- Latencies are in microseconds; "status" counts responses that were not 2xx/3xx.

local MAX_DISTINCT = 200000 -- reading the histogram is quadratic in wrk; beyond this, skip it

local function per_request(summary, latency)
  local conns = tonumber(os.getenv("WRK_CONNECTIONS") or "")
  if not conns or conns < 1 then return nil, "no WRK_CONNECTIONS" end
  local n = #latency
  if n > MAX_DISTINCT then return nil, "histogram too large" end
  local per_conn = math.floor(summary.requests / conns)
  local e = per_conn > 0 and math.floor(summary.duration / per_conn) or 0
  local vals, corrected = {}, {}
  for i = 1, n do
    local v, count = latency(i)
    vals[i] = v
    corrected[v] = count
  end
  local counts, total, sum, sumsq, negative = {}, 0, 0, 0, 0
  for i = 1, n do
    local v = vals[i]
    local k = corrected[v]
    if e > 0 and v > e then k = k - (corrected[v + e] or 0) end
    if k < 0 then negative = negative + 1; k = 0 end
    counts[i] = k
    total = total + k
    sum = sum + k * v
    sumsq = sumsq + k * v * v
  end
  if total == 0 then return nil, "empty histogram" end
  local mean = sum / total
  local var = total > 1 and (sumsq - total * mean * mean) / (total - 1) or 0
  local function pct(p)
    local rank = math.max(1, math.ceil(p / 100 * total))
    local acc = 0
    for i = 1, n do
      acc = acc + counts[i]
      if acc >= rank then return vals[i] end
    end
    return vals[n]
  end
  local max = 0
  for i = n, 1, -1 do
    if counts[i] > 0 then max = vals[i]; break end
  end
  return string.format(
    "recorded=%d interval_us=%d negative=%d mean_us=%.1f stdev_us=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
    "p999_us=%d max_us=%d", total, e, negative, mean, math.sqrt(math.max(var, 0)), pct(50), pct(90), pct(99),
    pct(99.9), max)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    "WRKSTATS requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "c_mean_us=%.1f c_stdev_us=%.1f c_p50_us=%d c_p90_us=%d c_p99_us=%d c_p999_us=%d c_max_us=%d",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max)
  local extra, why = per_request(summary, latency)
  io.write(line, " ", extra or ("per_request=n/a(" .. why:gsub(" ", "_") .. ")"), "\n")
end
