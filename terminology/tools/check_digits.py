"""Check digits of the national medicinal-product codes (CIP13, PZN, AIC) that the sources must carry."""

from __future__ import annotations


def ean13_ok(code: str) -> bool:
    """EAN-13 (CIP13) check digit: digits weighted 1, 3, 1, 3... over the first 12, mod 10."""
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def pzn_ok(code: str) -> bool:
    """PZN-8 check digit: sum of digit i (1-based) * i over the first 7 digits, mod 11."""
    if len(code) != 8 or not code.isdigit():
        return False
    check = sum(int(c) * (i + 1) for i, c in enumerate(code[:7])) % 11
    return check != 10 and check == int(code[7])


def aic_ok(code: str) -> bool:
    """AIC (9 digits, AIFA): the last digit is the check digit of the Italian pharmacode (Code 32):
    digits in odd positions added, digits in even positions doubled (digits of the product added),
    total mod 10."""
    if len(code) != 9 or not code.isdigit():
        return False
    total = 0
    for i, c in enumerate(code[:8]):
        d = int(c) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == int(code[8])
