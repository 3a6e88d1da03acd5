# API docs viewer (issue 11): /docs works without the internet. swagger-ui-dist is installed from npm at build
# time (pinned in server/docsui/package-lock.json, never vendored) and its two files are embedded in the binary.
#   make docs-assets   npm ci in server/docsui and copy the viewer into server/docsui/dist/
DOCSUI := server/docsui

.PHONY: docs-assets
docs-assets: $(DOCSUI)/dist/swagger-ui-bundle.js

$(DOCSUI)/dist/swagger-ui-bundle.js: $(DOCSUI)/package-lock.json
	cd $(DOCSUI) && npm ci --no-audit --no-fund --ignore-scripts
	cp $(DOCSUI)/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(DOCSUI)/node_modules/swagger-ui-dist/swagger-ui.css $(DOCSUI)/dist/

# The binary embeds the viewer, and the server's tests fetch it.
build test-go: docs-assets
