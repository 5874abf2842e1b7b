-- What the bundled billing "production" holds that specs/billing.toml does not describe.
-- Applied by scripts/make-demo-prod.sh billing to data generated from the spec with another seed.
-- Each quirk is a failing finding in `realitycheck verify specs/billing.toml`.

-- 1. UK VAT ids from the old CRM, stored without their country prefix.
UPDATE accounts SET vat_id = substr(vat_id, 3) WHERE country = 'GB' AND id % 10 = 0;

-- 2. A plan retired in 2019 that old subscriptions still point at.
INSERT INTO plans (id, code, monthly_price) VALUES (5, 'LEGACY_2019', 9);
UPDATE subscriptions SET plan_id = 5, plan_price = 9 WHERE id % 50 = 0;
UPDATE invoices SET amount = 9
WHERE subscription_id IN (SELECT id FROM subscriptions WHERE id % 50 = 0 AND billing_cycle = 'monthly');
UPDATE invoices SET amount = 90
WHERE subscription_id IN (SELECT id FROM subscriptions WHERE id % 50 = 0 AND billing_cycle = 'annual');
UPDATE payments SET amount = (SELECT i.amount FROM invoices i WHERE i.id = payments.invoice_id);

-- 3. Credit notes booked as invoices with negative amounts (and their refunds as payments).
UPDATE invoices SET amount = -amount WHERE id % 97 = 0 AND amount > 0;
UPDATE payments SET amount = -amount WHERE invoice_id IN (SELECT id FROM invoices WHERE amount < 0);

-- 4. Month-end close: a quarter of the invoices issued in the last hour of the month.
UPDATE invoices
SET issued_at = datetime(issued_at, 'start of month', '+1 month', '-1 hour'),
    due_at = datetime(issued_at, 'start of month', '+1 month', '-1 hour', '+14 days')
WHERE id % 4 = 1;

-- 5. A payment gateway that stopped sending failure codes.
UPDATE payments SET failure_code = NULL WHERE outcome = 'failed' AND id % 2 = 0;

-- 6. A column added in production and never added to the spec.
ALTER TABLE accounts ADD COLUMN crm_id TEXT;
UPDATE accounts SET crm_id = 'CRM-' || (100000 + id);
