/**
 * Which ports a scan probes: the user's port list in nmap's `-p` syntax, and the default lists of
 * the ports where services are most often found. Pure data and parsing: must never probe anything.
 */

import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { ScanProtocol } from './scan-types.js';

/** Ports to probe per protocol, each list sorted and without repeats. */
export interface PortList {
  tcp: number[];
  udp: number[];
}

const SYNTAX =
  'write ports like 22, 22,80,443, 1-1024, -1024 (1 to 1024), 60000- (60000 to 65535), - (all), ' +
  'or T:22,80,U:53,161 to choose TCP and UDP ports';

/**
 * Reads a port list in nmap's syntax: single ports and ranges separated by commas (`22,80,443`,
 * `1-1024`), open-ended ranges (`-1024` from 1, `60000-` to 65535, `-` for all) and the protocol
 * prefixes `T:` and `U:`, each applying to the items after it (`T:22,80,U:53,161`); items before
 * any prefix are `defaultProtocol`'s. Port 0 is refused: nothing listens on it and nmap's probing
 * it only confuses. Throws BAD_REQUEST naming the part that is wrong and showing the syntax.
 */
export function parsePortSpec(spec: string, defaultProtocol: ScanProtocol = 'tcp'): PortList {
  const text = spec.trim();
  if (text === '') throw portError(spec, 'the port list is empty');
  const chosen = { tcp: new Uint8Array(65_536), udp: new Uint8Array(65_536) };
  let protocol = defaultProtocol;
  for (const part of text.split(',')) {
    let item = part.trim();
    const prefix = /^([A-Za-z]):/.exec(item);
    if (prefix) {
      const letter = prefix[1]!.toUpperCase();
      if (letter === 'T') protocol = 'tcp';
      else if (letter === 'U') protocol = 'udp';
      else if (letter === 'S')
        throw portError(spec, 'SCTP (S:) is not scanned: use T: for TCP and U: for UDP');
      else throw portError(spec, `"${prefix[0]}" is no protocol: use T: for TCP and U: for UDP`);
      item = item.slice(2).trim();
      if (item === '') throw portError(spec, `"${prefix[0]}" has no port after it`);
    }
    if (item === '') throw portError(spec, 'it has an empty item between commas');
    const [low, high] = portRange(spec, item);
    chosen[protocol].fill(1, low, high + 1);
  }
  return { tcp: listed(chosen.tcp), udp: listed(chosen.udp) };
}

/**
 * The ports of a scan of the protocols chosen: the top lists when no spec is given; a spec's
 * unprefixed ports go to each protocol chosen, prefixed ones (T:, U:) where they say if that
 * protocol is chosen (as nmap scans U: ports only with -sU).
 */
export function portsToScan(spec: string | undefined, tcp: boolean, udp: boolean): PortList {
  if (spec === undefined) return { tcp: tcp ? [...TOP_TCP_PORTS] : [], udp: udp ? [...TOP_UDP_PORTS] : [] };
  if (/(^|,)\s*[A-Za-z]:/.test(spec)) {
    const both = parsePortSpec(spec);
    return { tcp: tcp ? both.tcp : [], udp: udp ? both.udp : [] };
  }
  const list = parsePortSpec(spec, 'tcp').tcp;
  return { tcp: tcp ? list : [], udp: udp ? [...list] : [] };
}

/**
 * One protocol's ports from a list without protocol prefixes (`22,80,8000-8100`), for scans of a
 * single protocol. Throws BAD_REQUEST as `parsePortSpec` does, and for a `T:` or `U:` prefix.
 */
export function parsePorts(spec: string): number[] {
  if (/(^|,)\s*[A-Za-z]:/.test(spec)) {
    throw portError(spec, 'protocol prefixes (T:, U:) choose between TCP and UDP, which this list cannot');
  }
  return parsePortSpec(spec).tcp;
}

/** `[low, high]` of one item: 22, 1-1024, -1024, 60000-, -. */
function portRange(spec: string, item: string): [number, number] {
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(item) ?? /^(\d+)$/.exec(item);
  if (!m) {
    throw portError(
      spec,
      `"${item}" is not a port or range (ports are given by number; service names are not looked up)`,
    );
  }
  const isRange = m.length === 3;
  const low = m[1] === '' ? 1 : portNumber(spec, m[1]!);
  const high = !isRange ? low : m[2] === '' ? 65_535 : portNumber(spec, m[2]!);
  if (high < low)
    throw portError(spec, `the range "${item}" ends before it starts: write the lower port first`);
  return [low, high];
}

function portNumber(spec: string, digits: string): number {
  const port = Number(digits);
  if (port === 0) {
    throw portError(spec, 'port 0 is reserved and no service listens on it: start at 1');
  }
  if (port > 65_535) throw portError(spec, `port ${digits} is past 65535, the highest port`);
  return port;
}

function portError(spec: string, problem: string): FlowTrackError {
  return new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    `port list ${JSON.stringify(spec)}: ${problem}; ${SYNTAX}`,
  );
}

function listed(flags: Uint8Array): number[] {
  const out: number[] = [];
  for (let port = 1; port < flags.length; port++) if (flags[port] === 1) out.push(port);
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/*
 * The default TCP list, ranked by hand: a judgment of what answers on office, data-centre, cloud
 * and home networks (not measured frequencies), most common first, so that a "top N" cut keeps
 * what matters. It names
 * every port on which a dangerous exposure is known (an open Docker API, a Redis or MongoDB with no
 * password, kubelet, etcd, Elasticsearch, a debugger port ...). After the ranked part come the
 * remaining system ports (1-1023) from the lowest: IANA's well-known range is where an unlisted
 * service most likely sits.
 */
const RANKED_TCP: readonly number[] = [
  // Found on almost every network: web, remote access, mail, Windows file sharing, DNS.
  80, 443, 22, 21, 23, 25, 53, 3389, 445, 139, 135, 110, 143, 993, 995, 587, 465, 8080, 8443, 111, 3306, 5900,
  1723, 8000, 8888, 8081, 5432, 1433, 2049, 631, 515, 9100, 548, 554, 161, 389, 636, 88, 179, 113, 1720, 5060,
  5061, 10000, 3000, 5000, 5001, 8008, 9000, 9090, 9443, 81, 8001, 8082, 8090, 6000, 6001, 1080, 3128, 199,
  1025, 1026, 1027, 49152, 49153, 49154, 49155, 49156, 49157, 5357, 2000, 8009, 7001,
  // Windows and Active Directory.
  464, 3268, 3269, 5985, 5986, 593, 1434, 7680, 9389, 47001, 2179, 1801, 2103, 2105, 2107, 1688, 8530, 8531,
  3343, 5722, 42, 1512, 2383, 4022, 5358, 2869, 10243, 1028, 1029, 1030, 49158, 49159, 49160, 3387, 3391,
  8172, 808, 691,
  // Databases.
  1521, 27017, 6379, 11211, 9200, 9300, 5984, 8086, 9042, 7474, 7687, 1522, 1526, 2483, 2484, 3050, 5433,
  6432, 26257, 27018, 27019, 28017, 7000, 7199, 9160, 6984, 7473, 8123, 9004, 28015, 29015, 8529, 50000,
  50001, 523, 2638, 4100, 7210, 1158, 5500, 5560, 33060, 6033, 8091, 8092, 8093, 8094, 8095, 8096, 11210,
  11207, 18091, 18092, 8983, 3351, 1583, 4333, 8087, 8098, 5050,
  // Caches, message brokers, coordination.
  5672, 5671, 15672, 15671, 25672, 4369, 61616, 61613, 61614, 8161, 1883, 8883, 2181, 2888, 3888, 9092, 9093,
  9094, 29092, 8083, 6380, 26379, 16379, 4222, 6222, 8222, 4150, 4151, 4160, 4161, 4171, 1414, 6650, 6651,
  9876, 10911, 5445, 5455,
  // Containers, orchestration, service mesh and the HashiCorp tools.
  2375, 2376, 2377, 4243, 6443, 10250, 10255, 10256, 10257, 10259, 10249, 10251, 10252, 2379, 2380, 7946,
  16443, 25000, 6444, 9345, 8472, 9099, 9153, 4194, 6781, 6782, 6783, 8285, 4240, 4244, 4245, 9323, 8500,
  8501, 8502, 8300, 8301, 8302, 8600, 8200, 8201, 4646, 4647, 4648, 30000, 15000, 15001, 15006, 15008, 15010,
  15012, 15014, 15017, 15020, 15021, 15090, 9901,
  // Monitoring, logging and tracing.
  9091, 9115, 9104, 9187, 9121, 9113, 9182, 3100, 3200, 9411, 16686, 14268, 14250, 4317, 4318, 8125, 8126,
  2003, 2004, 5601, 9600, 5044, 6514, 601, 514, 12201, 24224, 8089, 9997, 8088, 5666, 5667, 10050, 10051,
  4949, 2812, 19999, 5693, 8649, 8651,
  // Development servers, notebooks, debuggers (an open debugger runs any code it is sent).
  9229, 9222, 5005, 8787, 3001, 3002, 3003, 3333, 4000, 4200, 4567, 5173, 5174, 5555, 6006, 7070, 7080, 7443,
  8002, 8003, 8010, 8084, 8085, 8180, 8181, 8280, 8444, 8800, 8880, 8889, 9001, 9002, 9080, 9081, 9999, 10080,
  10443, 18080, 19000, 1313, 4321, 5678, 1880, 7860, 8188, 11434, 8025, 4040, 4444, 8999,
  // Java and application servers (WebLogic, Tomcat, WebSphere, GlassFish, WildFly, JBoss, RMI).
  7002, 8005, 9043, 9060, 4848, 9990, 9993, 1099, 1098, 3873, 4447, 2809, 7777, 7778, 8400, 8140, 8069,
  // CI, source control, collaboration.
  8111, 9418, 8065, 3690, 2401, 8153, 8154, 7990, 7999, 8929,
  // Remote access and administration: VNC, RDP kin, hosting panels, hypervisors, out-of-band.
  2222, 5901, 5902, 5903, 5904, 5905, 5906, 5910, 5800, 5801, 5802, 5803, 6080, 5938, 6568, 3283, 1494, 2598,
  4899, 5631, 5632, 6129, 20000, 2082, 2083, 2086, 2087, 2095, 2096, 8006, 8007, 902, 903, 912, 5480, 5988,
  5989, 623, 664, 16992, 16993, 16994, 16995, 17988, 17990, 2068, 512, 513, 6002, 6003, 6004, 6005, 6007, 177,
  873, 3260, 860, 8022, 2022, 22222, 8291, 8728, 8729, 4786, 7547, 5037, 24800,
  // Mail, chat and telephony.
  2525, 4190, 106, 109, 220, 366, 5222, 5223, 5269, 5280, 5281, 5190, 6667, 6697, 6665, 6666, 6668, 6669,
  3478, 5349, 1719, 5038, 2427, 8021,
  // File transfer, storage, sync and media.
  20, 990, 989, 2121, 115, 4045, 20048, 8384, 22000, 6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889,
  6969, 51413, 8112, 58846, 32400, 8920, 6690, 3689, 1935, 8554, 1755, 6600, 32768, 32769, 32770, 32771,
  // Printers, cameras, smart-home and consumer devices.
  280, 9101, 9102, 9103, 8611, 37777, 34567, 1400, 62078, 5009, 1900, 5431, 49000, 52869, 37215, 9527, 8899,
  10001, 2323, 8023, 3052, 3493, 3551,
  // Industrial control (an exposed controller can be reprogrammed): Modbus, S7, DNP3, EtherNet/IP,
  // BACnet, Niagara Fox, IEC 104, OPC UA, CODESYS, Red Lion, PCWorx, GE SRTP, MELSEC, FINS.
  502, 102, 44818, 47808, 1911, 4911, 2404, 4840, 2455, 789, 1962, 18245, 5007, 20547,
  // Security tools, backup, licensing, management agents.
  1241, 8834, 9390, 9392, 3780, 3790, 4505, 4506, 3632, 13722, 13724, 13782, 13783, 7937, 7938, 27000, 1311,
  2301, 2381, 2967, 3310, 3299, 3300, 4730, 1352, 1500, 9050, 9051,
  // Remote-access trojans and backdoors still found on compromised hosts.
  31337, 12345, 1337, 4445,
  // Other classic well-known services.
  1, 7, 9, 13, 17, 19, 26, 37, 43, 49, 70, 79, 82, 83, 84, 85, 99, 100, 119, 123, 144, 163, 211, 264, 311,
  427, 444, 458, 497, 500, 524, 541, 543, 544, 563, 625, 646, 666, 683, 687, 700, 705, 749, 783, 800, 843,
  888, 898, 901, 911, 981, 992, 1000, 1024, 1110, 1194, 1701, 1718, 1812, 1984, 2001, 2002, 2005, 2010, 2100,
  4125, 5100, 5101, 5200, 5405, 5850, 6112, 6346, 6347, 6502, 6543, 6566, 6789, 6800, 6901, 7071, 7100, 7676,
  7878, 8989, 9191, 9618, 9929, 10082, 13456, 16080, 27015,
];

/** The default TCP ports, about a thousand, most common first (see RANKED_TCP above). */
export const TOP_TCP_PORTS: readonly number[] = Object.freeze(
  [...RANKED_TCP, ...range(1, 1023).filter((p) => !RANKED_TCP.includes(p))].slice(0, 1000),
);

/**
 * The default UDP ports, most common first: name and address services, time, management, VPN,
 * discovery protocols (the usual amplifiers in reflection attacks), VoIP, games and industrial ones.
 */
export const TOP_UDP_PORTS: readonly number[] = Object.freeze([
  53, 123, 161, 67, 68, 137, 138, 500, 4500, 1900, 5353, 69, 162, 514, 520, 111, 2049, 11211, 1434, 5060,
  3478, 135, 445, 139, 631, 1701, 1812, 1813, 1645, 1646, 88, 464, 389, 3389, 5355, 5351, 3702, 1194, 51820,
  443, 623, 177, 19, 7, 17, 13, 37, 9, 1604, 5683, 47808, 20000, 2152, 2123, 10001, 5004, 5005, 4789, 8472,
  6081, 3784, 1985, 5246, 5247, 49, 427, 1719, 2427, 2727, 5632, 2055, 9995, 9996, 4739, 6343, 3283, 9987,
  19132, 27015, 27960, 3074, 3544, 8612, 5093, 30718, 34962, 34963, 34964, 44818, 2222, 9600, 17185, 521, 546,
  547, 6831, 8125, 4569, 12201, 26000, 64738,
]);
