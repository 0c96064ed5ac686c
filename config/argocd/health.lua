-- Argo CD health check for secureworkspace.io/SecureWorkspace.
-- The status follows kstatus: Ready, Reconciling and Stalled conditions plus
-- status.observedGeneration. Written for Lua 5.1 (Argo CD runs gopher-lua).
--   Healthy      Ready=True for the current generation
--   Progressing  no status yet, status about an older generation, Reconciling=True,
--                or Ready not (yet) True
--   Degraded     Stalled=True for the current generation: the operator cannot converge
--                without a change to the spec (invalid spec, namespace conflict)
local hs = {}

local function condition(conditions, conditionType)
  for _, c in ipairs(conditions or {}) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

-- "Reason: message", or whichever of the two is set, or the fallback.
local function describe(c, fallback)
  local reason = c and c.reason or ""
  local message = c and c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  if message ~= "" then
    return message
  end
  if reason ~= "" then
    return reason
  end
  return fallback
end

local status = obj.status
if status == nil or status.conditions == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = string.format("Waiting for the operator to observe generation %d (status is for generation %d)",
    generation, status.observedGeneration)
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local reconciling = condition(status.conditions, "Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

local ready = condition(status.conditions, "Ready")
if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = describe({ message = ready.message }, "Ready")
  return hs
end

hs.status = "Progressing"
if ready == nil then
  hs.message = "Waiting for the Ready condition"
else
  hs.message = describe(ready, "Ready is " .. tostring(ready.status))
end
return hs
