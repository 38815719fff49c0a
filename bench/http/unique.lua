-- wrk script (bench/http.sh appends it to stats.lua): every request gets its own URL, so each one is a
-- cache miss. The script appends "<tag>-<thread>-<n>" to the path of the command line URL; the tag is
-- the argument after "--" (one per run, so that runs never share URLs).
threads_made = 0
local counter = 0
local prefix = ""

setup = function(thread)
  threads_made = threads_made + 1
  thread:set("tid", threads_made) -- a global of that thread's own Lua state
end

init = function(args)
  prefix = wrk.path .. (args[1] or "run") .. "-" .. tostring(tid or 0) .. "-"
end

request = function()
  counter = counter + 1
  return wrk.format("GET", prefix .. counter)
end
