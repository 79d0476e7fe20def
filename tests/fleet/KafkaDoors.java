import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.errors.*;
import org.apache.kafka.common.serialization.*;

/*
 * The fleet test's Kafka door checks, run on a broker host (the Kafka jars are there):
 *   java -cp 'LIBS/*' KafkaDoors.java BOOTSTRAP TOPIC GROUP NODE_PASSWORD DISPATCHER_PASSWORD
 * Each line printed is "ok: ..." or "OPEN: ..."; exit 0 only if every door is shut:
 *   - a client without credentials gets no metadata
 *   - gradeq-node cannot produce to the jobs topic
 *   - gradeq-dispatcher cannot consume the jobs topic in the nodes' group
 *   - gradeq-node with a wrong password is refused
 */
public class KafkaDoors {
    static boolean open = false;

    static Properties base(String bootstrap, String user, String pw) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "8000");
        p.put("default.api.timeout.ms", "10000");
        p.put("max.block.ms", "10000");
        p.put("delivery.timeout.ms", "15000");
        p.put("linger.ms", "0");
        if (user != null) {
            p.put("security.protocol", "SASL_PLAINTEXT");
            p.put("sasl.mechanism", "SCRAM-SHA-512");
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                                      + user + "\" password=\"" + pw + "\";");
        }
        return p;
    }

    static void produce(String what, Properties p, String topic) {
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("enable.idempotence", "false");
        try (KafkaProducer<String, String> pr = new KafkaProducer<>(p)) {
            pr.send(new ProducerRecord<>(topic, "doors", "not a job")).get(20, TimeUnit.SECONDS);
            System.out.println("OPEN: " + what + ": produced to " + topic);
            open = true;
        } catch (Exception e) {
            System.out.println("ok: " + what + ": " + rootCause(e));
        }
    }

    static void consume(String what, Properties p, String topic, String group) {
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("group.id", group);
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long end = System.currentTimeMillis() + 15000;
            while (System.currentTimeMillis() < end) {
                c.poll(Duration.ofSeconds(1));
                if (!c.assignment().isEmpty()) {
                    System.out.println("OPEN: " + what + ": joined " + group + " with " + c.assignment());
                    open = true;
                    return;
                }
            }
            System.out.println("OPEN?: " + what + ": neither refused nor assigned in 15 s");
            open = true;
        } catch (Exception e) {
            System.out.println("ok: " + what + ": " + rootCause(e));
        }
    }

    static String rootCause(Throwable e) {
        while (e.getCause() != null)
            e = e.getCause();
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    public static void main(String[] a) throws Exception {
        String bs = a[0], topic = a[1], group = a[2], nodePw = a[3], dispPw = a[4];
        produce("no credentials", base(bs, null, null), topic);
        produce("gradeq-node producing jobs", base(bs, "gradeq-node", nodePw), topic);
        produce("gradeq-node with a wrong password", base(bs, "gradeq-node", nodePw + "x"), topic + ".dlq");
        consume("gradeq-dispatcher consuming jobs", base(bs, "gradeq-dispatcher", dispPw), topic, group);
        System.exit(open ? 1 : 0);
    }
}
