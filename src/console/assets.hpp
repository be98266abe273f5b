#pragma once
// The console's page: plain HTML, CSS and a little JavaScript, served from the binary (no
// build chain, nothing from elsewhere). The script fills the page from the JSON API and sets
// every text through textContent, so no payload or reason is ever read as HTML.

#include <string_view>

namespace pipeline::admin {

extern const std::string_view console_page_html;
extern const std::string_view console_page_css;
extern const std::string_view console_page_js;

}  // namespace pipeline::admin
