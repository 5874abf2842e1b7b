-- What the bundled demo "production" holds that specs/shop.toml does not describe.
-- Applied by scripts/make-demo-prod.sh to data generated from the spec with another seed.
-- Each quirk is one finding in `realitycheck verify specs/shop.toml`.

-- 1. A legacy phone format, from before numbers were stored in E.164-like form (4% of rows).
UPDATE customers
SET phone = '(' || substr(phone, 4, 3) || ') ' || substr(phone, 8, 3) || '-' || substr(phone, 12, 4)
WHERE id % 25 = 0 AND country = 'US';

-- 2. Names mangled by an old latin-1 import: UTF-8 decoded as Windows-1252 (mojibake).
UPDATE customers
SET full_name = CASE id % 3
    WHEN 0 THEN 'JosÃ© GarcÃ­a'
    WHEN 1 THEN 'FranÃ§ois MÃ¼ller'
    ELSE 'BjÃ¶rn Ã…berg'
END
WHERE id % 40 = 7;

-- 3. A status added last year that the spec never learned about.
UPDATE orders SET status = 'PENDING_REVIEW' WHERE id % 30 = 4;

-- 4. Refunds larger than their order.
UPDATE refunds
SET amount = (SELECT o.total FROM orders o WHERE o.id = refunds.order_id) + 10
WHERE id % 12 = 0;

-- 5. Order items whose order was deleted (orphans).
INSERT INTO order_items (id, order_id, product_id, sku, quantity, unit_price, line_total)
SELECT 900000 + c.id, 9000000 + c.id, p.id, p.sku, 1, p.price, p.price
FROM customers c JOIN products p ON p.id = 1 WHERE c.id <= 12;

-- 6. A null spike: a checkout bug dropped coupon codes for a third of the orders.
UPDATE orders SET coupon_code = NULL WHERE id % 3 = 0;

-- 7. A column added in production and never added to the spec.
ALTER TABLE customers ADD COLUMN loyalty_tier TEXT;
UPDATE customers SET loyalty_tier = CASE id % 4 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'none' END;
