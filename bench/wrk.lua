-- bench/wrk.lua — the one wrk script used by bench/run.sh.
--
--   wrk ... -s bench/wrk.lua URL -- read   IDS_FILE  PREFIX   random GET PREFIX<id>
--   wrk ... -s bench/wrk.lua URL -- static PATH               GET PATH (nginx comparison)
--   wrk ... -s bench/wrk.lua URL -- create BODY_FILE PATH     POST BODY_FILE to PATH
--
-- Creates: every answer's status is counted (response() hook); any status but 201
-- is "unexpected" and kept per status code.  Reads and static: no response() hook
-- (it makes wrk build a Lua table of headers for every answer, CPU taken from the
-- server, which shares the machine's 2 CPUs with wrk); an answer with a status
-- > 399 (wrk's own count) is "unexpected".
-- done() prints one line "BENCHJSON {...}" with throughput, latency percentiles
-- (microseconds), socket errors and a status histogram, for run.sh to parse.

local threads = {}
local nthreads = 0

function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
    table.insert(threads, thread)
end

local function slurp(path)
    local f = assert(io.open(path, "rb"), "cannot open " .. path)
    local s = f:read("*a")
    f:close()
    return s
end

local function create_response(status, headers, body)
    if status == expected then
        ok_count = ok_count + 1
    else
        bad_count = bad_count + 1
        bad_statuses[status] = (bad_statuses[status] or 0) + 1
        -- rebuilt on each unexpected answer (rare) so that thread:get sees a string
        local parts = {}
        for code, n in pairs(bad_statuses) do
            parts[#parts + 1] = code .. ":" .. n
        end
        bad_string = table.concat(parts, ",")
    end
end

function init(args)
    mode = args[1]
    expected = 200
    ok_count, bad_count = 0, 0
    bad_statuses, bad_string = {}, ""
    math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
    if mode == "read" then
        ids = {}
        for line in slurp(args[2]):gmatch("[^\r\n]+") do
            ids[#ids + 1] = line
        end
        assert(#ids > 0, "no ids in " .. args[2])
        -- requests are formatted once here: wrk.format per request would cost
        -- wrk (which shares the CPUs with the server) more CPU than nginx's run
        local prefix = args[3] or "/api/v1/cases/"
        local reqs = {}
        for i, id in ipairs(ids) do
            reqs[i] = wrk.format("GET", prefix .. id)
        end
        local n = #reqs
        request = function()
            return reqs[math.random(n)]
        end
    elseif mode == "static" then
        local req = wrk.format("GET", args[2])
        request = function() return req end
    elseif mode == "create" then
        expected = 201
        -- wrk.format uses the headers given here instead of wrk.headers (-H):
        -- carry the Authorization header over
        local headers = {["Content-Type"] = "application/json"}
        if wrk.headers["Authorization"] then
            headers["Authorization"] = wrk.headers["Authorization"]
        end
        local req = wrk.format("POST", args[3] or "/api/v1/cases", headers, slurp(args[2]))
        request = function() return req end
        response = create_response
    else
        error("mode must be read, static or create")
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local ok, bad, hist = 0, 0, {}
    local expect = threads[1]:get("expected")
    if threads[1]:get("mode") == "create" then
        for _, t in ipairs(threads) do
            ok = ok + t:get("ok_count")
            bad = bad + t:get("bad_count")
            for code, n in t:get("bad_string"):gmatch("(%d+):(%d+)") do
                hist[code] = (hist[code] or 0) + tonumber(n)
            end
        end
    else
        bad = e.status
        ok = summary.requests - bad
        if bad > 0 then hist["4xx/5xx"] = bad end
    end
    local parts = {string.format('"%d":%d', expect, ok)}
    for code, n in pairs(hist) do
        parts[#parts + 1] = string.format('"%s":%d', code, n)
    end
    local secs = summary.duration / 1e6
    io.write(string.format(
        'BENCHJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
        '"ok":%d,"unexpected":%d,"statuses":{%s},' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
        summary.requests, secs, summary.requests / secs, summary.bytes,
        ok, bad, table.concat(parts, ","),
        e.connect, e.read, e.write, e.status, e.timeout,
        latency.mean, latency.stdev, latency.max,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9)))
end
