-- wrk: durable referral mutations, each for a new young person (a distinct, valid CPR
-- number per request: born 2005-2009, serial 4000-9999, per-thread ranges), each with its
-- own commandId, as integrations send them.
-- KUI_TOKEN: a caseworker token.
-- Runs start at a time-based offset so that a second run refers new people too.
-- The mapping below is one-to-one over 10,080,000 numbers; threads take halves of it.
local counter = (os.time() % 250) * 20000
local next_thread = 0
-- A global: `thread:set` in setup() gives each thread its own.
thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

-- A command id per request, distinct across threads and runs.
local run = os.time()
local function command_id(n)
  return string.format("%08x-%04x-4%03x-8%03x-%012x", run % 4294967296, thread_id,
    n % 4096, math.floor(n / 4096) % 4096, n)
end

function request()
  counter = counter + 1
  local n = (thread_id * 5040000 + counter) % 10080000
  local day = (n % 28) + 1
  local month = (math.floor(n / 28) % 12) + 1
  local year = 5 + (math.floor(n / 336) % 5)
  local serial = 4000 + (math.floor(n / 1680) % 6000)
  local cpr = string.format("%02d%02d%02d-%04d", day, month, year, serial)
  -- One query text with the referral in variables, as an integration sends it.
  local body = '{"query":"mutation Refer($input: ReferInput!, $command: ID) ' ..
    '{ refer(input: $input, commandId: $command) { position } }",' ..
    '"variables":{"command":"' .. command_id(counter) .. '",' ..
    '"input":{"cpr":"' .. cpr .. '","name":"Load Test","schoolStatus":"IN_EDUCATION",' ..
    '"indicators":["HIGH_ABSENCE"],"note":"load"}}}'
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("KUI_TOKEN"),
  }, body)
end
