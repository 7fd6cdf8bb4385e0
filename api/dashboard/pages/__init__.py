"""The dashboard's pages, one JavaScript module each."""
