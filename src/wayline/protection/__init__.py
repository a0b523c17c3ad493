"""Data protection: field-level envelope encryption by classification, the keys behind it
(data keys per data subject, wrapped by a key-encryption key from a provider), blind indexes
and key rotation. See docs/data-protection.md.

The store never imports this package: it calls the codec seam of `store/codec.py`, which
`bootstrap.py` fills with the `protection.codec.FieldCodec` built here.
"""
