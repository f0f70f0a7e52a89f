-- Two more API key roles for field service: `technician` (sees and updates only the work
-- orders assigned to the technician linked to the key) and `customer` (a tenant's user:
-- raises requests, follows its work orders, signs off).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('admin', 'operator', 'finance', 'viewer', 'technician', 'customer'));
