-- field_pairs(object): a JSON object of string fields (decoded by cjson) as HSET's field/value
-- arguments. A hash's values must be strings: cjson would turn a number into a Lua number, which HSET
-- writes in its own format; numbers in the JSON argument are for comparisons and TTLs only.
local function field_pairs(object)
  local flat = {}
  for field, value in pairs(object) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  return flat
end
