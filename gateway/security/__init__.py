"""Security: PKI, the signed trust list, TLS contexts, assertions, the role x purpose policy, sealed secrets.

Below the services: imports nothing of the web layer, the services or storage."""
