-- report.lua — shared by every workload script: after the run, print one
-- machine-readable line for bench/run.sh:
--   RESULT <req/s> <p50 us> <p99 us> <requests> <non-2xx/3xx> <socket errors>
-- Latencies come from wrk's own histogram (microseconds).
function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format("RESULT %.0f %d %d %d %d %d\n",
      summary.requests / secs, latency:percentile(50), latency:percentile(99),
      summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
