"""Who a request comes from: server-side sessions today; real accounts and OIDC later."""
