/* gSOAP header for tests/interop/gsoap/verify.c: what a gSOAP 2.8 client of the broker imports for
   WS-Security and WS-Addressing (soapcpp2 -c generates the (de)serializers from it). */
#import "wsse.h"
#import "wsa5.h"
#import "dom.h"
