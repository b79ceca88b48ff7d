/* Verifies a signed SOAP 1.1 message the way a gSOAP 2.8 client with the WS-Security plugin does
   (tests/interop/test_gsoap.py).

   usage: verify MESSAGE.xml CA.pem
   Reads MESSAGE.xml (no HTTP headers), lets the wsse plugin verify the signature with the key of the
   X.509 BinarySecurityToken it references (soap_wsse_verify_auto; the certificate chain is checked
   against the CA certificates in CA.pem, which gSOAP loads as its trust store), then checks that
   the Timestamp is current and that the SOAP Body is signed (soap_wsse_verify_body, the check that
   answers "Message body not signed"). Prints "OK" and exits 0, or prints gSOAP's error and exits 1. */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "soapH.h"
#include "wsseapi.h"

/* The namespace table soapcpp2 writes for verifier.h (named after its first prefix). */
#include "c14n.nsmap"

static int fout(struct soap *soap, const char *stap)
{
  const char **detail = soap_faultdetail(soap);
  printf("FAIL %s: %s", stap, *soap_faultstring(soap) ? *soap_faultstring(soap) : "");
  if (detail && *detail)
    printf(" (%s)", *detail);
  printf(" [gSOAP error %d]\n", soap->error);
  return 1;
}

int main(int argc, char **argv)
{
  struct soap *soap;
  size_t body, timestamp;
  int fd;
  if (argc != 3)
  {
    fprintf(stderr, "usage: %s MESSAGE.xml CA.pem\n", argv[0]);
    return 2;
  }
  fd = open(argv[1], O_RDONLY);
  if (fd < 0)
  {
    perror(argv[1]);
    return 2;
  }
  soap = soap_new();
  soap_register_plugin(soap, soap_wsse);
  soap->cafile = argv[2];
  soap_wsse_verify_auto(soap, SOAP_SMD_NONE, NULL, 0);
  soap->recvfd = fd;
  /* What a generated client stub does with an answer, with the Body's content read as DOM (an
     answer, a fault or a push alike); the plugin verifies the signature in soap_end_recv. */
  if (soap_begin_recv(soap) || soap_envelope_begin_in(soap) || soap_recv_header(soap)
      || soap_body_begin_in(soap))
    return fout(soap, "receive");
  for (;;)
  {
    xsd__anyType inhoud;
    soap_default_xsd__anyType(soap, &inhoud);
    if (!soap_in_xsd__anyType(soap, NULL, &inhoud, NULL))
      break;
  }
  if (soap->error != SOAP_NO_TAG)
    return fout(soap, "body");
  soap->error = SOAP_OK;
  if (soap_body_end_in(soap) || soap_envelope_end_in(soap) || soap_end_recv(soap))
    return fout(soap, "signature");
  if (soap_wsse_verify_Timestamp(soap))
    return fout(soap, "timestamp");
  /* The counts soap_wsse_verify_body and a Timestamp check rely on: signed elements of that name. */
  body = soap_wsse_verify_element(soap, soap->local_namespaces->ns, "Body");
  timestamp = soap_wsse_verify_element(soap, SOAP_NAMESPACE_OF_wsu, "Timestamp");
  if (soap_wsse_verify_body(soap))
  {
    fout(soap, "body signed");
    printf("signed Body elements counted: %zu\n", body);
    return 1;
  }
  printf("OK body=%zu timestamp=%zu\n", body, timestamp);
  return 0;
}
