-- wrk script: sends DEPTH requests in one write and waits for their DEPTH answers
-- (HTTP/1.1 pipelining), as wrk's own scripts/pipeline.lua does.
--   wrk -t1 -c100 -d10s -s bench/pipeline.lua http://127.0.0.1:8081/ -- 16
init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
   end
   req = table.concat(r)
end

request = function()
   return req
end
