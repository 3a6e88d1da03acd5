// Points the Swagger UI viewer (served from the binary) at the server's own OpenAPI document.
window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });
