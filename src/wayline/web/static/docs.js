// Starts Swagger UI on /docs. It lives in a file, not an inline script, because the Content
// Security Policy allows scripts from this origin only.
(function () {
  "use strict";

  // "Try it out" on a state change needs the CSRF cookie's value in a header, as any API
  // client sends it (served over HTTPS the cookie carries the __Host- prefix).
  function csrfToken() {
    var cookies = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < cookies.length; i++) {
      var parts = cookies[i].split("=");
      if (parts[0] === "wayline_csrf" || parts[0] === "__Host-wayline_csrf") {
        return decodeURIComponent(parts.slice(1).join("="));
      }
    }
    return "";
  }

  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no badge fetched from a validator elsewhere
    requestInterceptor: function (request) {
      var token = csrfToken();
      if (token) request.headers["X-CSRF-Token"] = token;
      return request;
    },
  });
})();
