-- The list script answers with one JSON text (cjson), not a nested array: a list of 100 parties is
-- about 3,000 strings, which redis-py's reply parser builds one by one (220 us of a 1.8 ms list
-- request) and orjson decodes in a third of that. An entry: [id, position (0 = not waiting), {field: value}].
local out = {}
-- emit_from(prefix, ids, first): the parties `ids` whole; `first` is the place in line of ids[1] (the
-- next ones follow it), or nil for parties not waiting. A party whose hash is gone is left out.
local function emit_from(prefix, ids, first)
  for i, pid in ipairs(ids) do
    local flat = redis.call('HGETALL', prefix .. pid)
    if #flat > 0 then
      local fields = {}
      for j = 1, #flat, 2 do fields[flat[j]] = flat[j + 1] end
      out[#out + 1] = {pid, first and first + i - 1 or 0, fields}
    end
  end
end
local function encoded()
  if #out == 0 then return '[]' end
  return cjson.encode(out)
end
