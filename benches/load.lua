-- wrk script of benches/load.sh: each request takes the next URL of the file $URLS (one path
-- and query per line), round robin, per thread.
local urls = {}
for line in io.lines(os.getenv("URLS")) do
  urls[#urls + 1] = line
end
local i = 0

request = function()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end
