"""The dashboard's interface strings: ``ru.js`` (the default) and ``en.js``."""
