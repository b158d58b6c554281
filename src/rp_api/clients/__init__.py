"""One typed httpx client per authentic source (National Register, MemberData, Dimona, SEED-Connect,
JobSeeker, blinded pseudonymisation, TRIO), added with the policy layer."""
