"""The whole CompanyOS system on embedded local AWS (moto server), for `make demo` and the tests."""
