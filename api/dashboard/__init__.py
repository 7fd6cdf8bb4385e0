"""The dashboard's static files (HTML, CSS, JavaScript modules, strings, region outline).

A package only so that the files ship with the wheel; ``api.routes.dashboard`` serves them.
"""
