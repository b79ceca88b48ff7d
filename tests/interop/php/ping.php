<?php
// PHP's SoapClient (ext-soap) against the broker's contract, as a PHP LAS would use it:
// loads every WSDL given (URLs the broker serves, or files), lists their operations, and calls
// ping with WS-Addressing headers (profile 2W-be: no WS-Security) on each SERVICE=OIN given.
//
// usage: php ping.php BROKER_OIN WSDL... -- SERVICE_URL=FROM_OIN...
// prints one JSON object: {wsdl: {file: [operations]}, ping: {url: echo}, versions: {...}}
declare(strict_types=1);

const WSA = 'http://www.w3.org/2005/08/addressing';

function uuid4(): string {
    $b = random_bytes(16);
    $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
    $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
    return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
}

function client(string $wsdl, ?string $location = null): SoapClient {
    $options = ['soap_version' => SOAP_1_1, 'trace' => true, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE];
    if ($location !== null) {
        $options['location'] = $location;
    }
    return new SoapClient($wsdl, $options);
}

$argv = array_slice($_SERVER['argv'], 1);
$brokerOin = array_shift($argv);
$split = array_search('--', $argv, true);
$wsdls = array_slice($argv, 0, $split);
$pings = array_slice($argv, $split + 1);

$result = ['wsdl' => [], 'ping' => []];
foreach ($wsdls as $wsdl) {
    $operations = array_map(fn ($f) => preg_replace('/^\S+ (\w+)\(.*$/', '$1', $f), client($wsdl)->__getFunctions());
    sort($operations);
    $result['wsdl'][$wsdl] = $operations;
}
foreach ($pings as $ping) {
    [$url, $fromOin] = explode('=', $ping, 2);
    preg_match('#/vva/([a-z]+)/v1$#', $url, $m);
    $client = client("$url?wsdl", $url);
    $client->__setSoapHeaders([
        new SoapHeader(WSA, 'Action', "urn:nl:vva:aanmelden:v1/{$m[1]}/ping"),
        new SoapHeader(WSA, 'MessageID', 'urn:uuid:' . uuid4()),
        new SoapHeader(WSA, 'To', "$url?oin=$brokerOin"),
        // XSD_ANYXML stands for the whole header block: an endpoint reference with its Address.
        new SoapHeader(WSA, 'From', new SoapVar('<wsa:From xmlns:wsa="' . WSA . '"><wsa:Address>' . WSA
            . "/anonymous?oin=$fromOin</wsa:Address></wsa:From>", XSD_ANYXML)),
    ]);
    try {
        $answer = $client->ping(['echo' => 'php-soap']);
    } catch (SoapFault $fault) {
        fwrite(STDERR, "FAILED $url: {$fault->faultcode} {$fault->faultstring}\n" . $client->__getLastRequest() . "\n");
        exit(1);
    }
    $result['ping'][$url] = $answer->echo;
}
$result['versions'] = ['php' => PHP_VERSION, 'soap' => phpversion('soap'), 'libxml' => LIBXML_DOTTED_VERSION];
echo json_encode($result, JSON_UNESCAPED_SLASHES), "\n";
